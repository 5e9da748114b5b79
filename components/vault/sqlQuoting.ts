/** PostgreSQL identifier quoting for SQL that postgres-access writes into Vault statements. */
export function quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}
