# %%
var x = 1;
int y = "not an int";
