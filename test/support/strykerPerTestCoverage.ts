/**
 * Loaded by Stryker only (stryker.config.json, mochaOptions.require). Stryker's mocha runner marks the
 * current test in a root beforeEach and never clears it, so code a later suite runs in its `before` hook
 * would be credited to the previous suite's last test, and a mutant there would be checked by that
 * unrelated test alone (a false survivor). Clearing the mark after each test makes hook-only code "static"
 * coverage instead: Stryker then reports such a mutant as Ignored ("ignoreStatic") rather than as a
 * survivor no test could have seen.
 */
export const mochaHooks = {
    afterEach(): void {
        const stryker = (globalThis as { __stryker__?: { currentTestId?: string } }).__stryker__;
        if (stryker) stryker.currentTestId = undefined;
    },
};
