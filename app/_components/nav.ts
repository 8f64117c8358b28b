export const NAV = [
  { href: "/", label: "Dashboard" },
  { href: "/markets", label: "Markets" },
  { href: "/backtests", label: "Backtests" },
  { href: "/builder", label: "Strategy Builder" },
  { href: "/optimize", label: "Optimise" },
  { href: "/training", label: "Training" },
  { href: "/bots", label: "Bots" },
  { href: "/risk", label: "Risk" },
  { href: "/audit", label: "Audit" },
  { href: "/settings", label: "Settings" },
] as const;
