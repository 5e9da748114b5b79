/**
 * Where the in-cluster server keeps its data on the PVC, per PostgreSQL major, and the init container
 * script that refuses to start a server on a data directory of another major. Pure functions.
 *
 * Layouts (the official image's own):
 * - 15-17: the PVC at `/var/lib/postgresql/data`, PGDATA one level below (`…/data/pgdata`, so initdb never
 *   meets lost+found). Unchanged, so existing servers keep their data.
 * - 18+: the image moved PGDATA to `/var/lib/postgresql/<major>/docker` and its VOLUME to
 *   `/var/lib/postgresql` (docker-library/postgres#1259, pg_ctlcluster's layout), and its entrypoint refuses
 *   a mount at the old `…/data`; so the PVC is mounted at `/var/lib/postgresql` and PGDATA is the
 *   version-specific directory below it. A 15-17 data directory on the same PVC then shows up as
 *   `/var/lib/postgresql/pgdata`, beside the new major's, never under it.
 */

/** Mount path of the data PVC and PGDATA for a PostgreSQL major version. */
export interface DataLayout {
    /** Where the PVC is mounted. */
    mountPath: string;
    /** PGDATA (a directory below the mount). */
    pgdata: string;
}

/** The first major whose official image uses the version-specific layout. */
export const VERSIONED_LAYOUT_FROM = 18;

export function dataLayout(version: string): DataLayout {
    if (Number(version) >= VERSIONED_LAYOUT_FROM) {
        return { mountPath: "/var/lib/postgresql", pgdata: `/var/lib/postgresql/${version}/docker` };
    }
    return { mountPath: "/var/lib/postgresql/data", pgdata: "/var/lib/postgresql/data/pgdata" };
}

/** Name of the init container running `dataDirectoryCheckScript` (before initdb). */
export const DATA_DIRECTORY_CHECK = "data-directory-check";

/**
 * POSIX sh for the `data-directory-check` init container. Environment: PGDATA, DATA_VOLUME (the PVC's mount),
 * EXPECTED_MAJOR (the major this pod runs), UPGRADE_FROM (optional: `database.statefulset.upgradeFrom`).
 *
 * - PGDATA holds the expected major: start.
 * - PGDATA holds another major: refuse (exit 1, the reason in the container's log and termination message),
 *   unless UPGRADE_FROM names that major: then the old directory is renamed to
 *   `<PGDATA>-<old major>-before-upgrade` on the same volume (kept, never deleted) and initdb creates an
 *   empty cluster of the new major, into which the operator restores the dump (docs/operations.md "Major
 *   version upgrades of the in-cluster server").
 * - PGDATA is empty but the volume holds another major's data directory (up to two levels below the mount):
 *   refuse unless UPGRADE_FROM names that major (initdb would otherwise start an empty server beside the
 *   data and the apps would see an empty database).
 */
export function dataDirectoryCheckScript(): string {
    return `set -eu
refuse() {
  echo "postgres-access: $1" | tee /dev/termination-log >&2
  exit 1
}
major_of() { head -n 1 "$1/PG_VERSION" | tr -d ' \\r\\n'; }
procedure="see the README section 'Major version upgrades of the in-cluster server': dump the old server, then set database.statefulset.upgradeFrom"
if [ -s "$PGDATA/PG_VERSION" ]; then
  have="$(major_of "$PGDATA")"
  [ "$have" = "$EXPECTED_MAJOR" ] && exit 0
  if [ "\${UPGRADE_FROM:-}" = "$have" ]; then
    kept="$PGDATA-$have-before-upgrade"
    [ -e "$kept" ] && refuse "cannot keep the PostgreSQL $have data directory at $kept: it exists already; move it away first"
    mv "$PGDATA" "$kept"
    echo "postgres-access: kept the PostgreSQL $have data directory as $kept; initdb creates an empty PostgreSQL $EXPECTED_MAJOR cluster (restore the dump into it)"
    exit 0
  fi
  refuse "the data directory $PGDATA holds PostgreSQL $have, but this pod runs PostgreSQL $EXPECTED_MAJOR, which cannot start on it; $procedure: \\"$have\\" (or set database.version back to \\"$have\\")"
fi
for version_file in "$DATA_VOLUME"/*/PG_VERSION "$DATA_VOLUME"/*/*/PG_VERSION; do
  [ -s "$version_file" ] || continue
  dir="$(dirname "$version_file")"
  [ "$dir" = "$PGDATA" ] && continue
  have="$(major_of "$dir")"
  [ "$have" = "$EXPECTED_MAJOR" ] && continue
  [ "\${UPGRADE_FROM:-}" = "$have" ] && continue
  refuse "the volume holds a PostgreSQL $have data directory ($dir) and $PGDATA is empty: PostgreSQL $EXPECTED_MAJOR would start with an empty database beside it; $procedure: \\"$have\\" (or set database.version back to \\"$have\\")"
done
exit 0
`;
}
