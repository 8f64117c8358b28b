import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Risk"
      summary="The account-wide risk guard arrives with the bots issue."
      planned={["Account-wide limits and a kill switch", "Exposure and drawdown by account"]}
    />
  );
}
