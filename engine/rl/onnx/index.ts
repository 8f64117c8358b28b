/** Neural networks as ONNX graphs (onnx-proto) run with onnxruntime-node. */
export * from "./proto";
export * from "./graph";
export * from "./mlp";
export * from "./attention";
export * from "./runtime";
