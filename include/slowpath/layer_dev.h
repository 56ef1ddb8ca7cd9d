/* Included first by every public header of the device layer (stack/dev). The build compiles each
 * layer with SP_LAYER_<NAME> defined; the wire layer sits below the devices and may not use
 * them, and the LLM engine plugs into the stack's decision points, never into a device (what it
 * needs to know of the frames, their numbers, comes with a decision's outcome). No include
 * guard: the check runs wherever the header is included. */
#if defined(SP_LAYER_WIRE)
#error "stack/wire may not include a device header: wire sits below dev"
#endif
#if defined(SP_LAYER_LLM)
#error "llm/ may not include a device header (nor iface.h, which includes it): it uses decide.h only"
#endif
