/**
 * The ONNX protobuf classes (onnx-proto, generated from onnx v1.10.2's
 * onnx.proto with protobufjs). The package is CommonJS with a namespace
 * object as module.exports, so ESM sees it as the default export.
 */
import * as onnxProto from "onnx-proto";

type OnnxNs = typeof onnxProto.onnx;
const mod = onnxProto as unknown as { onnx?: OnnxNs; default?: { onnx?: OnnxNs } };
export const onnx: OnnxNs = (mod.onnx ?? mod.default?.onnx)!;
if (!onnx?.ModelProto) throw new Error("onnx-proto: ModelProto not found (unexpected module shape)");

/** IR version of the emitted models: 8 (onnx 1.10's onnx.proto; ORT 1.30 reads IR <= 11). */
export const IR_VERSION = 8;
/** Default operator set of the default domain (LayerNormalization needs >= 17). */
export const OPSET = 17;

export const TensorDataType = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;

export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
} as const;

/** Decode model bytes (e.g. to inspect an emitted or stored model). */
export function decodeModel(bytes: Uint8Array): InstanceType<OnnxNs["ModelProto"]> {
  return onnx.ModelProto.decode(bytes);
}
