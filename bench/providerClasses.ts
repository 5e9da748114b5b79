/**
 * The provider SDK class a type token is registered through, for the benchmark's `sdk` floor: the same
 * resources as the program, each constructed with its provider package's own class (`new
 * postgresql.Role(name, inputs)`), as any program using those providers must. A class adds what the plain
 * `pulumi.CustomResource` floor leaves out: an Output for every declared output property, the aliases the
 * provider SDK sets itself (e.g. `DefaultPrivileges`' old type `DefaultPrivileg`, NetworkPolicy's
 * `extensions/v1beta1`), and its constructor's own frames on the stack the SDK captures per registration.
 *
 * Token -> module: `<pkg>:index/<mod>:<Class>` is `@pulumi/<pkg>/<mod>`, `<pkg>:<dir>/<mod>:<Class>` is
 * `@pulumi/<pkg>/<dir>/<mod>`, Kubernetes `kubernetes:<group>/<version>:<Kind>` is
 * `@pulumi/kubernetes/<group without dots>/<version>/<kind>` (CRDs, which have no class: the
 * `apiextensions.CustomResource` the program uses), `pulumi:providers:<pkg>` is that package's Provider.
 * The `sdk` floor registers providers as `pulumi.ProviderResource`s, the base of every Provider class, with
 * the recorded inputs as they are; the `wired` floor (`providerClasses`) through the package's
 * `@pulumi/<pkg>/provider` Provider class, which JSON-encodes its non-string inputs itself: it gets those
 * decoded ({@link jsonEncodedInputs}).
 * Only the modules the replay needs are loaded (the packages' index modules load lazily too).
 */
import * as pulumi from "@pulumi/pulumi";

export type Construct = (name: string, inputs: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.Resource;
type ResourceClass = new (name: string, inputs: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.Resource;

function load(module: string, exported: string): ResourceClass | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return (require(module) as Record<string, ResourceClass | undefined>)[exported];
    } catch (err) {
        if ((err as { code?: string }).code === "MODULE_NOT_FOUND") return undefined;
        throw err;
    }
}

/** The Provider class of a `pulumi:providers:<pkg>` token. */
function providerPackageClass(type: string): ResourceClass {
    const pkg = type.slice("pulumi:providers:".length);
    const Class = load(`@pulumi/${pkg}/provider`, "Provider");
    if (!Class) throw new Error(`bench: no Provider class for ${type}`);
    return Class;
}

/**
 * The inputs a package's Provider class JSON-encodes itself (`pulumi.output(args.x).apply(JSON.stringify)`
 * in its constructor, as every generated Provider class writes it): the recorded inputs hold them encoded.
 */
export function jsonEncodedInputs(type: string): ReadonlySet<string> {
    const source = providerPackageClass(type).toString();
    return new Set([...source.matchAll(/resourceInputs\["(\w+)"\] = .*\.apply\(JSON\.stringify\);$/gm)].map((m) => m[1]));
}

/**
 * The constructor of the provider SDK class behind `type` (throws for a token it cannot place); providers
 * through their package's Provider class with `providerClasses`, else as `pulumi.ProviderResource`s.
 */
export function providerClass(type: string, { providerClasses = false } = {}): Construct {
    if (type === "pulumi:pulumi:StackReference") return (name, inputs, opts) => new pulumi.StackReference(name, inputs as pulumi.StackReferenceArgs, opts);
    const provider = /^pulumi:providers:(.+)$/.exec(type);
    const [pkg, mod, cls] = type.split(":");
    let Class: ResourceClass | undefined;
    if (provider && providerClasses) {
        Class = providerPackageClass(type);
    } else if (provider) {
        // abstract in the typings only, as CustomResource (bench/replay.ts)
        const Provider = pulumi.ProviderResource as unknown as new (pkg: string, name: string, inputs: Record<string, unknown>, opts?: pulumi.ResourceOptions) => pulumi.ProviderResource;
        return (name, inputs, opts) => new Provider(provider[1], name, inputs, opts);
    } else if (pkg === "kubernetes") {
        Class = load(`@pulumi/kubernetes/${mod.replace(/\./g, "")}/${cls[0].toLowerCase()}${cls.slice(1)}`, cls)
            ?? load("@pulumi/kubernetes/apiextensions/customResource", "CustomResource");
    } else {
        Class = load(`@pulumi/${pkg}/${mod.replace(/^index\//, "")}`, cls);
    }
    if (!Class) throw new Error(`bench: no provider SDK class for ${type}`);
    const C = Class;
    return (name, inputs, opts) => new C(name, inputs, opts);
}
