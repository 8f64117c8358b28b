import { redirect } from "next/navigation";
import { Shell } from "@/app/_components/shell";
import { TRPCProvider } from "@/app/_components/trpc";
import { auth } from "@/server/auth";
import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const session = await auth();
  const user = session?.user?.id ? await getServerDeps().users.findById(session.user.id) : null;
  if (!user || user.disabled) redirect("/login");
  return (
    <TRPCProvider>
      <Shell user={{ email: user.email, role: user.role }}>{children}</Shell>
    </TRPCProvider>
  );
}
