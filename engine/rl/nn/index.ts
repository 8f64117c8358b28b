/** Plain-TypeScript neural networks for tiny RL models (see mlp.ts for the parameter layout). */
export * from "./activations";
export * from "./checkpoint";
export * from "./dense";
export * from "./gradcheck";
export * from "./losses";
export * from "./mlp";
export * from "./optim";
