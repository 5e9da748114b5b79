/**
 * The component provider host (`PulumiPlugin.yaml`): serves `PostgresAccess` and the building blocks to
 * Pulumi programs in any language (`pulumi package add <this repository>`). The schema is what Pulumi's
 * component analyzer infers from the TypeScript sources of this folder (`npm run schema` writes it to
 * schema.json).
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { Organization, PostgresAccess, RdsPostgres, StatefulSetPostgres } from "./components";

export * from "./components";

/** The package name other languages import (`postgres-access:index:<Component>`). */
export const PROVIDER_NAME = "postgres-access";

/** The components served. */
export const PROVIDED_COMPONENTS = [PostgresAccess, StatefulSetPostgres, RdsPostgres, Organization];

/** This folder in the sources (also when this file runs compiled from dist/provider/). */
export function providerSourceDir(): string {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "PulumiPlugin.yaml"))) return path.join(dir, "provider");
    }
    throw new Error(`no PulumiPlugin.yaml above ${__dirname}`);
}

/** The package version (the root package.json's). */
function packageVersion(): string {
    return JSON.parse(fs.readFileSync(path.join(providerSourceDir(), "..", "package.json"), "utf8")).version;
}

/** The provider, as the host runs it (and as the tests call `getSchema` and `construct`). */
export function componentProvider(): ComponentProvider {
    return new ComponentProvider({ name: PROVIDER_NAME, dirname: providerSourceDir(), components: PROVIDED_COMPONENTS, version: packageVersion() });
}

if (require.main === module) {
    void componentProviderHost({ name: PROVIDER_NAME, dirname: providerSourceDir(), components: PROVIDED_COMPONENTS });
}
