import { NotBuilt } from "@/app/_components/not-built";

export default function Page() {
  return (
    <NotBuilt
      title="Training"
      summary="Reinforcement-learning training arrives with the RL-agents issue."
      planned={["PPO and DQN trained inside the execution simulator", "Live training curves and run comparison", "Out-of-sample evaluation and a model registry"]}
    />
  );
}
