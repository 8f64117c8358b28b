"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";
import { logout } from "@/app/actions";
import { NAV } from "./nav";

export function Shell({ user, children }: { user: { email: string; role: string }; children: React.ReactNode }) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [pathname]);

  const links = (
    <ul className="space-y-px">
      {NAV.map((item) => {
        const active = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
        return (
          <li key={item.href}>
            <Link
              href={item.href}
              aria-current={active ? "page" : undefined}
              className={`block border-l-2 px-3 py-2 text-sm ${active ? "border-accent bg-panel-2 text-fg" : "border-transparent text-dim hover:bg-panel-2 hover:text-fg"}`}
            >
              {item.label}
            </Link>
          </li>
        );
      })}
    </ul>
  );

  const account = (
    <div className="border-t border-line p-3 text-xs">
      <div className="truncate text-fg" title={user.email}>{user.email}</div>
      <div className="num mt-0.5 text-dim">role: {user.role}</div>
      <form action={logout} className="mt-2">
        <button type="submit" className="w-full rounded-sm border border-line px-2 py-1.5 text-dim hover:border-bad hover:text-bad">
          Sign out
        </button>
      </form>
    </div>
  );

  return (
    <div className="min-h-dvh md:flex">
      {/* Phone: top bar with a menu drawer */}
      <header className="sticky top-0 z-20 flex h-12 items-center justify-between border-b border-line bg-panel px-3 md:hidden">
        <Link href="/" className="num text-xs tracking-widest text-accent">TRADEFORGE</Link>
        <button
          type="button"
          aria-label={open ? "Close menu" : "Open menu"}
          aria-expanded={open}
          aria-controls="mobile-nav"
          onClick={() => setOpen((v) => !v)}
          className="rounded-sm border border-line px-3 py-1.5 text-xs text-fg"
        >
          {open ? "Close" : "Menu"}
        </button>
      </header>
      {open ? (
        <nav id="mobile-nav" aria-label="Main" className="fixed inset-x-0 top-12 bottom-0 z-10 overflow-y-auto border-b border-line bg-panel md:hidden">
          {links}
          {account}
        </nav>
      ) : null}

      {/* Desktop: sidebar */}
      <aside className="hidden w-56 shrink-0 flex-col border-r border-line bg-panel md:flex md:min-h-dvh">
        <Link href="/" className="num block px-3 py-4 text-xs tracking-widest text-accent">TRADEFORGE</Link>
        <nav aria-label="Main" className="flex-1">{links}</nav>
        {account}
      </aside>

      <main className="min-w-0 flex-1 p-4 md:p-6">{children}</main>
    </div>
  );
}
