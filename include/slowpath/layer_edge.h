/* Included first by every public header of the loop edge (stack/edge). The build compiles each
 * layer with SP_LAYER_<NAME> defined; the edge binds the stack to a libuv loop, so the stack and
 * the layers under it may not use it. No include guard: the check runs wherever the header is
 * included. */
#if defined(SP_LAYER_WIRE) || defined(SP_LAYER_DEV) || defined(SP_LAYER_STACK)
#error "stack/wire, stack/dev and the stack may not include an edge header: the edge sits above them"
#endif
