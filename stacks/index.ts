/** Entry point of `pulumi up` / `pulumi preview` (Pulumi.yaml `main`). */
import { limitStackTraces } from "./stackTraces";
import { createStack, stackExports } from "./program";

limitStackTraces();
const exported = stackExports(createStack());
export = exported;
