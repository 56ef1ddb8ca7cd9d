/* Included first by every public header of the device layer (stack/dev). The build compiles each
 * layer with SP_LAYER_<NAME> defined; the wire layer sits below the devices and may not use
 * them. No include guard: the check runs wherever the header is included. */
#if defined(SP_LAYER_WIRE)
#error "stack/wire may not include a device header: wire sits below dev"
#endif
