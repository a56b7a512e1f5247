struct y { int a; };
int y_fn(struct y *p) { return p->a; }
