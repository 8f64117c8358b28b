#!/bin/sh
# Stand-in for Prisma's native schema engine, which is downloaded from a host
# that offline machines cannot reach. This project does not need it: the client
# is generated from the schema with Prisma's bundled WebAssembly, and migrations
# are plain SQL files applied by prisma/migrate.ts.
echo "The Prisma schema engine is not installed: migrations are applied by prisma/migrate.ts (npm run db:migrate)." >&2
exit 1
