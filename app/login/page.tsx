import { redirect } from "next/navigation";
import { auth } from "@/server/auth";
import { LoginForm } from "./login-form";

export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const session = await auth();
  if (session?.user?.id) redirect("/");
  const { next } = await searchParams;
  return (
    <main className="flex min-h-dvh items-center justify-center px-4">
      <div className="w-full max-w-sm border border-line bg-panel p-6">
        <div className="mb-6">
          <div className="num text-xs tracking-widest text-accent">TRADEFORGE</div>
          <h1 className="mt-1 text-lg font-semibold">Sign in</h1>
        </div>
        <LoginForm next={next} />
      </div>
    </main>
  );
}
