/**
 * The one place bench/ imports the in-process mock runner from (when it moves, change this line only).
 */
export { runPulumi, type RecordedResource, type RecordedCall } from "../testing/offlineRun";
