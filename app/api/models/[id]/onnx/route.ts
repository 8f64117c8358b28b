import { getModel } from "@/engine/store/training";
import { requireUser } from "@/server/auth/route-guard";
import { getServerDeps } from "@/server/deps";

export const dynamic = "force-dynamic";

/** A registered model's ONNX graph as a download (viewer role). Metadata: training.models. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const guard = await requireUser("viewer");
  if ("response" in guard) return guard.response;
  const { id } = await ctx.params;
  const model = await getModel(getServerDeps().sql(), id);
  if (!model) return Response.json({ error: `no model ${id}` }, { status: 404 });
  const name = `${model.name.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 80) || "model"}-${model.id.slice(0, 8)}.onnx`;
  return new Response(new Uint8Array(model.onnx), {
    headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
}
