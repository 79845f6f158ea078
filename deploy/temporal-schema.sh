#!/bin/sh
# Creates or updates the Temporal server's two PostgreSQL databases to the schema of the
# temporal-sql-tool that runs it (the schema files are embedded in the tool: postgresql/v12).
# Safe to run again: an existing database is kept, and update-schema applies only what is missing.
# Run it before the first start and after every server upgrade, before the new server starts.
# docker-compose.yml runs it in the admin-tools image (the temporal-schema job); the test
# harness (test/support/productionServer.ts) runs this same file.
#
#   POSTGRES_SEEDS (127.0.0.1), DB_PORT (5432), POSTGRES_USER (temporal), POSTGRES_PWD,
#   DBNAME (temporal), VISIBILITY_DBNAME (temporal_visibility), TEMPORAL_SQL_TOOL (temporal-sql-tool)
set -eu

tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  database=${pair%%:*}
  schema=${pair#*:}
  sql() {
    "$tool" --plugin postgres12 --ep "${POSTGRES_SEEDS:-127.0.0.1}" -p "${DB_PORT:-5432}" \
      -u "${POSTGRES_USER:-temporal}" --pw "${POSTGRES_PWD:-}" --db "$database" "$@"
  }
  sql create-database 2>/dev/null || echo "temporal-schema: database $database exists"
  # setup-schema -v 0.0 creates the schema version table of a new database and changes nothing in an existing one.
  sql setup-schema -v 0.0
  sql update-schema --schema-name "postgresql/v12/$schema"
  echo "temporal-schema: $database is at the schema of $("$tool" --version 2>/dev/null | head -1 || echo "$tool")"
done
