/** Entry point of `pulumi up` / `pulumi preview` (Pulumi.yaml `main`). */
import { createStack, stackExports } from "./program";

const exported = stackExports(createStack());
export = exported;
