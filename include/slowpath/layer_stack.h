/* Included first by every public header of the stack layer (stack/ip, stack/tcp, stack/decide).
 * The build compiles each layer with SP_LAYER_<NAME> defined; wire and dev sit below the stack
 * and may not use it. No include guard: the check runs wherever the header is included. */
#if defined(SP_LAYER_WIRE) || defined(SP_LAYER_DEV)
#error "stack/wire and stack/dev may not include a stack header: they sit below it"
#endif
