/**
 * npm run user:create -- --email E --password P --role R
 * Creates a user in the configured database (migrating it first if needed).
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { EnvError, loadEnv } from "@/engine/runtime/env";
import { createDb } from "@/prisma/db";
import { migrate } from "@/prisma/migrate";
import { hashPassword, passwordRules } from "@/server/auth/password";
import { ROLES } from "@/server/auth/roles";
import { DuplicateEmailError, usersRepo } from "@/server/db/users";

const schema = z.object({
  email: z.email({ message: "--email must be an email address" }),
  password: z.string({ message: "--password is required" }).min(passwordRules.min, `--password must be at least ${passwordRules.min} characters`),
  role: z.enum(ROLES, { message: `--role must be one of ${ROLES.join(", ")}` }),
});

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" }, role: { type: "string", default: "viewer" } }, strict: true });
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`user:create: ${issue.message}\n`);
    process.stderr.write("usage: npm run user:create -- --email E --password P --role viewer|trader|approver|admin\n");
    return 2;
  }
  const env = loadEnv();
  await migrate(env.databaseUrl);
  const db = createDb(env.databaseUrl);
  try {
    const user = await usersRepo(db).create({ email: parsed.data.email, passwordHash: await hashPassword(parsed.data.password), role: parsed.data.role });
    process.stdout.write(`created ${user.email} with role ${user.role}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DuplicateEmailError) {
      process.stderr.write(`user:create: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`user:create: ${err instanceof EnvError ? err.message : (err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
