/**
 * `npm run schema`: writes the package schema Pulumi's component analyzer infers from the provider's
 * components (`ComponentProvider.getSchema()` of @pulumi/pulumi/provider/experimental) to schema.json.
 */
import * as fs from "fs";
import * as path from "path";
import { componentProvider } from "../provider";

/** The committed schema file, relative to the project root. */
export const PACKAGE_SCHEMA_FILE = "schema.json";

/** The schema as the analyzer infers it, rendered as committed (2-space JSON, trailing newline). */
export async function renderPackageSchema(): Promise<string> {
    const schema = JSON.parse(await componentProvider().getSchema());
    return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
    renderPackageSchema().then((text) => {
        fs.writeFileSync(path.resolve(__dirname, "..", PACKAGE_SCHEMA_FILE), text);
        console.log(`wrote ${PACKAGE_SCHEMA_FILE}`);
    }).catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
