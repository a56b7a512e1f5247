int x_fn(int a);

int top_fn(void)
{
	return x_fn(1);
}
