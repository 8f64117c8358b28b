/** The RL trading environment: features, dataset, vectorised env, look-ahead check, splits, baselines, policy replay. */
export * from "./prng";
export * from "./features";
export * from "./dataset";
export * from "./trading-env";
export * from "./lookahead";
export * from "./split";
export * from "./replay";
export * from "./baselines";
