/**
 * Reading IAM policy documents (identity, trust and key policies) the way AWS evaluates them: statements
 * as a list, actions matched case-insensitively with `*`/`?`, principals in their three spellings.
 */
import { asList, globMatches, isObject, jsonDocument } from "./common";

export interface IamStatement {
    Sid?: string;
    Effect?: string;
    Principal?: unknown;
    NotPrincipal?: unknown;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of a policy document given as JSON text or object (empty for an absent document). */
export function statementsOf(document: unknown, what: string): IamStatement[] {
    const doc = jsonDocument(document, what);
    if (doc === undefined) return [];
    if (!isObject(doc)) throw new Error(`${what} is not a policy document`);
    return asList(doc.Statement).filter(isObject) as IamStatement[];
}

/** A statement's label for messages: its Sid, or its position. */
export function statementLabel(statement: IamStatement, index: number): string {
    return statement.Sid ? `statement ${statement.Sid}` : `statement ${index}`;
}

export const isAllow = (statement: IamStatement): boolean => statement.Effect === "Allow";

/** Whether an Allow statement can grant `action` (its Action matches it, or its NotAction does not exclude it). */
export function grantsAction(statement: IamStatement, action: string): boolean {
    if (!isAllow(statement)) return false;
    if (statement.NotAction !== undefined) return !asList(statement.NotAction).some((a) => globMatches(String(a), action));
    return asList(statement.Action).some((a) => globMatches(String(a), action));
}

/** The principals of one kind (`AWS`, `Federated`, `Service`) a statement names; `"*"` stands for everyone. */
export function principalsOf(statement: IamStatement, kind: "AWS" | "Federated" | "Service"): string[] {
    const principal = statement.Principal;
    if (principal === "*") return ["*"];
    if (!isObject(principal)) return [];
    return asList(principal[kind]).map(String);
}

/** Whether an AWS principal is an account root: `arn:<partition>:iam::<account>:root` or a bare account id. */
export function isAccountRoot(principal: string): boolean {
    return /^arn:[a-z-]+:iam::\d{12}:root$/.test(principal) || /^\d{12}$/.test(principal);
}
