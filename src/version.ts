/** The one place the release version lives; bumped by the release runbook (docs/release.md). */
export const VERSION = "0.1.0";
