# %%
Console.WriteLine("about to hang");
System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);
# %%
Console.WriteLine("never");
