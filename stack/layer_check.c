/* Linked with one layer's whole archive and only the libraries that layer may use (see
 * stack/CMakeLists.txt): if the layer calls into a layer above it, this fails to link. */
int main(void) { return 0; }
