# %%
Console.WriteLine("runs");
# %%
#!fsharp
printfn "never"
# %%
#!time
Console.WriteLine("timed");
