import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Audit"
      summary="The hash-chained audit trail arrives with the bots issue."
      planned={["Tamper-evident log of orders, approvals and configuration changes"]}
    />
  );
}
