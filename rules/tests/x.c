int x_value = 1;
int x_fn(int a) { return a + x_value; }
