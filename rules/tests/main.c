int top_fn(void);

int main(void)
{
	return top_fn();
}
