/**
 * The user documentation: README.md and the pages under docs/ it links to. Tests that check what the
 * documentation says read it through here, so a section may move between the files.
 */
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..");

/** README.md, then every docs/*.md (sorted), each with its path relative to the project root. */
export function docFiles(): { file: string; text: string }[] {
    const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`);
    return ["README.md", ...docs].map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), "utf8") }));
}

/** All the documentation as one text (README.md first, then docs/*.md). */
export function docText(): string {
    return docFiles().map((d) => d.text).join("\n");
}
