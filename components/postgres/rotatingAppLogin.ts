import * as pulumi from "@pulumi/pulumi";
import { AppLogin, AppLoginArgs } from "./appLogin";
import { ROTATION_SLOTS, RotationSlot, RotationStatus } from "../rotation";

export interface RotatingAppLoginArgs {
    /** PostgreSQL role names of the two alternating logins (`rotationLoginNames`). */
    roleNames: Record<RotationSlot, string>;
    /** Access level; both logins become members of exactly this group role (owner: both SET ROLE to it). */
    access: AppLoginArgs["access"];
    /** Name of the organization's group role for `access`. */
    groupRole: pulumi.Input<string>;
    /** CONNECTION LIMIT of each login. */
    connectionLimit: number;
    /** Where the app stands in its schedule now (`rotationStatus`). */
    status: RotationStatus;
}

/**
 * An app's two alternating LOGIN roles (scheduled rotation, docs/delivery.md "Scheduled rotation"): children
 * `<name>-a` and `<name>-b`, each an AppLogin (same attributes and single group membership as a plain app
 * login; passwords only as SCRAM verifiers) whose RandomPassword keeps (`keepers.rotationPeriod`) the period
 * in which the slot last became active. So a slot's password changes only when it becomes the delivered one;
 * the other slot keeps the password delivered in the previous period, valid through the grace period.
 * `username`/`password` are the active slot's: what the Secret or the Secrets Manager entry delivers.
 */
export class RotatingAppLogin extends pulumi.ComponentResource {
    /** The delivered (active) login's role name. */
    public readonly username: pulumi.Output<string>;
    /** The delivered login's password (secret). */
    public readonly password: pulumi.Output<string>;
    /** Both logins, by slot. */
    public readonly logins: Record<RotationSlot, AppLogin>;
    /** Which slot is delivered, since when and until when the other stays valid. */
    public readonly status: RotationStatus;

    constructor(name: string, args: RotatingAppLoginArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:RotatingAppLogin", name, {}, opts);
        this.status = args.status;
        const login = (slot: RotationSlot) => new AppLogin(`${name}-${slot}`, {
            roleName: args.roleNames[slot],
            access: args.access,
            groupRole: args.groupRole,
            connectionLimit: args.connectionLimit,
            passwordManagedBy: "pulumi",
            passwordKeepers: { rotationPeriod: String(args.status.slotPeriods[slot]) },
        }, { parent: this, dependsOn: opts?.dependsOn });
        this.logins = Object.fromEntries(ROTATION_SLOTS.map((slot) => [slot, login(slot)])) as Record<RotationSlot, AppLogin>;
        const active = this.logins[args.status.activeSlot];
        this.username = active.username;
        this.password = active.password!;
        this.registerOutputs({ username: this.username });
    }
}
