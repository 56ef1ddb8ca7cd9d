/* Included first by every public header of the LLM engine (llm/). The build compiles each layer
 * with SP_LAYER_<NAME> defined; the stack (wire, dev, the protocols and the loop edge) never
 * depends on llm/: it exposes decision points that llm/ plugs into. No include guard: the check
 * runs wherever the header is included. */
#if defined(SP_LAYER_WIRE) || defined(SP_LAYER_DEV) || defined(SP_LAYER_STACK) || defined(SP_LAYER_EDGE)
#error "stack/ may not include an llm/ header: llm plugs into the stack, never the reverse"
#endif
