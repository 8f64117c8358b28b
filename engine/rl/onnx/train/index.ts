/**
 * Training graphs for the ONNX networks (engine/rl/onnx): reverse-mode
 * autodiff over the graph builder, loss graphs, Adam, and the training step as
 * one ONNX graph run by ORT (onnxruntime-node has no training API).
 *
 *   const lg = ppoLossGraph({ actor: mlpNet(actorSpec), critic: mlpNet(criticSpec) }, { numActions });
 *   const step = await TrainStep.create(lg, { params: initialFlatParams, optimizer: { lr, maxGradNorm } });
 *   const metrics = step.update({ obs, actions, old_logp, advantages, returns, old_values });
 *   // step.params: the flat parameters (actor then critic, the emitters' layout):
 *   emitMlp(actorSpec, step.params.subarray(0, mlpParamCount(actorSpec.sizes)))   // inference graph
 *
 * Modules: autodiff (backward()), shapes (static shape / type inference),
 * nets (networks over a flat parameter input), losses (PPO, DQN, MSE), adam
 * (clipping + Adam fragments), step (grad / train / Adam graphs, TrainStep),
 * session (multi-input ORT session, sync), encode (float32 / float64
 * encodings), gradcheck (finite-difference checks), reference (the plain-TS
 * PPO update used for equivalence tests and the benchmark).
 */
export * from "./encode";
export * from "./shapes";
export * from "./autodiff";
export * from "./nets";
export * from "./ops";
export * from "./losses";
export * from "./adam";
export * from "./session";
export * from "./step";
