import type { Metadata, Viewport } from "next";
import "@fontsource-variable/inter";
import "@fontsource-variable/jetbrains-mono";
import "./globals.css";

export const metadata: Metadata = {
  title: "TradeForge",
  description: "Self-hosted trading platform: data, backtests, RL agents, paper and live bots.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#0a0d10" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" className="dark">
      <body className="min-h-dvh">{children}</body>
    </html>
  );
}
