// tapfault command line (CLI11). Placeholder until the runner lands.
int main() { return 0; }
