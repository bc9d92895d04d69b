using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MedSsl.Cli.Notebooks;
using NetMQ;
using NetMQ.Sockets;

namespace MedSsl.Cli.Kernel;

/// <summary>
/// The C# (MedSsl) Jupyter kernel: the Jupyter messaging protocol 5.3 over ZeroMQ (NetMQ) in front of the
/// <see cref="ScriptSession"/> that <c>medssl run</c> uses. NetMQ sockets are not thread-safe, so each socket lives
/// on its own thread: shell (requests, cells run from here one at a time), control (interrupt and shutdown, answered
/// while a cell runs), iopub (publishes what the others queue), stdin (asks the front end for a cell's
/// <c>Console.ReadLine</c>) and heartbeat.
/// </summary>
internal sealed class JupyterKernel
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest frame accepted (64 MiB, far above any cell's code): ZeroMQ drops the connection of a peer that
    /// sends more, instead of the kernel buffering it.</summary>
    public const long MaxMessageBytes = 64L << 20;

    private readonly ConnectionInfo connection;
    private readonly MessageCodec codec;
    private readonly TextWriter log;
    private readonly ScriptSession session = new(Environment.CurrentDirectory);
    private readonly BlockingCollection<NetMQMessage> iopub = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly ManualResetEventSlim socketsBound = new();
    private int bindsPending = 5;
    private int executionCount;
    private readonly KernelHistory history = new();
    private List<NetMQMessage> queuedBehindFailure = []; // shell thread only
    // What the stdin thread sends (NetMQQueue is the thread-safe way into a socket's thread) and the answer awaited.
    private readonly NetMQQueue<NetMQMessage> stdinOutgoing = new();
    private TaskCompletionSource<string>? pendingInput;
    private volatile JupyterMessage? inputParent;

    public JupyterKernel(ConnectionInfo connection, TextWriter log)
    {
        this.connection = connection;
        this.log = log;
        codec = new MessageCodec(connection.Key, Guid.NewGuid().ToString());
    }

    /// <summary>Serves until a shutdown request; returns the process exit code.</summary>
    public int Run()
    {
        // jupyter_client sends SIGINT before a shutdown, and .NET ends the process on SIGINT by default. Interrupts
        // come as interrupt_request messages (interrupt_mode "message"), so the signal is only noted.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            log.WriteLine("medssl kernel: SIGINT ignored (interrupts arrive as interrupt_request messages)");
        });
        session.CaptureConsole();
        Console.SetIn(new FrontEndInput(this));
        var iopubThread = Start("iopub", PublishQueued);
        Thread[] receivers =
        [
            Start("heartbeat", EchoHeartbeats),
            Start("stdin", ServeStdin),
            Start("control", () => Serve(connection.ControlPort, "control", (message, socket) => Handle(message, socket, control: true))),
            Start("shell", () => Serve(connection.ShellPort, "shell", (message, socket) => Handle(message, socket, control: false))),
        ];
        WaitHandle.WaitAny([socketsBound.WaitHandle, stopping.Token.WaitHandle]);
        if (stopping.IsCancellationRequested) return 1; // a socket failed to bind; its thread logged why
        log.WriteLine($"medssl kernel: listening on {connection.Ip} (shell {connection.ShellPort}, control {connection.ControlPort})");
        // Compiling a first script costs about a second of JIT; doing it now makes the first cell quick.
        Task.Run(session.WarmUp);
        stopping.Token.WaitHandle.WaitOne();
        iopub.CompleteAdding();
        iopubThread.Join(TimeSpan.FromSeconds(5));
        // Receivers notice the stop within a poll interval; the shell thread may be waiting on a cell that ignores
        // its Cancellation, and ending the process ends that cell.
        var closed = receivers.All(thread => thread.Join(TimeSpan.FromSeconds(1)));
        if (closed) NetMQConfig.Cleanup(block: false);
        return 0;
    }

    private Thread Start(string name, Action body)
    {
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e)
            {
                log.WriteLine($"medssl kernel: the {name} thread failed: {e}");
                stopping.Cancel();
            }
        }) { Name = "kernel " + name, IsBackground = true };
        thread.Start();
        return thread;
    }

    private void Bound()
    {
        if (Interlocked.Decrement(ref bindsPending) == 0) socketsBound.Set();
    }

    /// <summary>Receives on a router socket of its own, checking every message's signature.</summary>
    private void Serve(int port, string channel, Action<JupyterMessage, RouterSocket> handle)
    {
        using var socket = new RouterSocket();
        socket.Options.MaxMsgSize = MaxMessageBytes;
        socket.Bind(connection.Address(port));
        Bound();
        NetMQMessage? frames = null;
        while (!stopping.IsCancellationRequested)
        {
            if (!socket.TryReceiveMultipartMessage(PollInterval, ref frames)) continue;
            Dispatch(aborting: false);
            // After a failed cell with stop_on_error, the cells a front end queued behind it (JupyterLab's Run All)
            // are answered "aborted" instead of run.
            var queued = queuedBehindFailure;
            queuedBehindFailure = [];
            foreach (var behind in queued)
            {
                frames = behind;
                Dispatch(aborting: true);
            }
        }

        void Dispatch(bool aborting)
        {
            var message = codec.Decode(frames!, out var problem);
            if (problem is not null)
            {
                log.WriteLine($"medssl kernel: {channel}: dropped a message: {problem}");
                if (message is not null) ReplyError(socket, message, "BadRequest", problem);
            }
            else if (aborting && message.Type == "execute_request") Abort(message, socket);
            else handle(message, socket);
        }
    }

    private void Abort(JupyterMessage request, RouterSocket socket)
    {
        Publish(request, "status", new JsonObject { ["execution_state"] = "busy" });
        Send(socket, request, "execute_reply", new JsonObject { ["status"] = "aborted" });
        Publish(request, "status", new JsonObject { ["execution_state"] = "idle" });
    }

    /// <summary>The stdin channel: sends queued input requests, completes the pending one with the reply.</summary>
    private void ServeStdin()
    {
        using var socket = new RouterSocket();
        socket.Options.MaxMsgSize = MaxMessageBytes;
        socket.Bind(connection.Address(connection.StdinPort));
        using var poller = new NetMQPoller { socket, stdinOutgoing };
        // ReceiveReady fires only with a queued message, so Dequeue does not return null here.
        stdinOutgoing.ReceiveReady += (_, e) => socket.SendMultipartMessage(e.Queue.Dequeue()!);
        socket.ReceiveReady += (_, e) =>
        {
            var message = codec.Decode(e.Socket.ReceiveMultipartMessage(), out var problem);
            if (problem is not null || message is null) log.WriteLine($"medssl kernel: stdin: dropped a message: {problem}");
            else if (message.Type == "input_reply") Volatile.Read(ref pendingInput)?.TrySetResult(Text(message, "value"));
            else log.WriteLine($"medssl kernel: stdin: {message.Type} ignored");
        };
        using var stop = stopping.Token.Register(() => poller.StopAsync());
        Bound();
        poller.Run();
    }

    /// <summary>A line typed in the front end, for the running cell; null when its request did not allow input.</summary>
    private string? RequestInput(string prompt)
    {
        var parent = inputParent;
        if (parent is null) return null;
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref pendingInput, answer);
        stdinOutgoing.Enqueue(codec.Encode(parent, "input_request", new JsonObject { ["prompt"] = prompt, ["password"] = false }));
        try
        {
            // An interrupt while waiting ends the wait (OperationCanceledException) like any awaited call in the cell.
            answer.Task.Wait(session.CurrentCancellation);
            return answer.Task.Result;
        }
        finally
        {
            Volatile.Write(ref pendingInput, null);
        }
    }

    /// <summary><c>Console.In</c> of the cells: each line read is asked of the front end.</summary>
    private sealed class FrontEndInput(JupyterKernel kernel) : TextReader
    {
        public override string? ReadLine() => kernel.RequestInput("");
        public override int Read() => throw new NotSupportedException("read whole lines from the front end: Console.ReadLine()");
    }

    private void PublishQueued()
    {
        using var socket = new PublisherSocket();
        socket.Bind(connection.Address(connection.IopubPort));
        Bound();
        foreach (var message in iopub.GetConsumingEnumerable()) socket.SendMultipartMessage(message);
    }

    private void EchoHeartbeats()
    {
        using var socket = new ResponseSocket();
        socket.Options.MaxMsgSize = 1 << 16;
        socket.Bind(connection.Address(connection.HeartbeatPort));
        Bound();
        NetMQMessage? ping = null;
        while (!stopping.IsCancellationRequested)
            if (socket.TryReceiveMultipartMessage(PollInterval, ref ping)) socket.SendMultipartMessage(ping);
    }

    internal void Publish(JupyterMessage parent, string type, JsonObject content)
    {
        // The topic frame lets subscribers filter; Jupyter clients subscribe to everything.
        var message = codec.Encode(parent, type, content, [System.Text.Encoding.UTF8.GetBytes(type)]);
        try { iopub.Add(message); }
        catch (InvalidOperationException) { } // shutting down: outputs after the shutdown have no one to go to
    }

    /// <summary>Replies on the socket the request came in on; only that socket's thread calls this.</summary>
    private void Send(RouterSocket socket, JupyterMessage request, string type, JsonObject content) =>
        socket.SendMultipartMessage(codec.Encode(request, type, content));

    /// <summary>Every request is framed by busy and idle on iopub: clients wait for idle to know it is done.</summary>
    private void Handle(JupyterMessage request, RouterSocket socket, bool control)
    {
        Publish(request, "status", new JsonObject { ["execution_state"] = "busy" });
        var shutdown = false;
        try
        {
            switch (request.Type)
            {
                case "kernel_info_request": Send(socket, request, "kernel_info_reply", KernelInfo()); break;
                case "execute_request" when !control: Execute(request, socket); break;
                case "is_complete_request":
                    Send(socket, request, "is_complete_reply", new JsonObject { ["status"] = CodeAssist.IsComplete(Text(request, "code")), ["indent"] = "" });
                    break;
                case "complete_request": Complete(request, socket); break;
                case "inspect_request": Inspect(request, socket); break;
                case "history_request": Send(socket, request, "history_reply", history.Reply(request.Content)); break;
                case "comm_info_request": Send(socket, request, "comm_info_reply", new JsonObject { ["status"] = "ok", ["comms"] = new JsonObject() }); break;
                case "interrupt_request":
                    session.Interrupt();
                    Send(socket, request, "interrupt_reply", new JsonObject { ["status"] = "ok" });
                    break;
                case "shutdown_request":
                    var restart = Flag(request, "restart", false);
                    session.Interrupt();
                    Send(socket, request, "shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = restart });
                    shutdown = true;
                    log.WriteLine(restart ? "medssl kernel: restart requested; the client starts a new kernel process" : "medssl kernel: shutdown requested");
                    break;
                default:
                    log.WriteLine($"medssl kernel: {request.Type} is not handled");
                    ReplyError(socket, request, "NotImplemented", $"{request.Type} is not handled by this kernel");
                    break;
            }
        }
        catch (BadRequestException e)
        {
            log.WriteLine($"medssl kernel: {request.Type}: bad request: {e.Message}");
            ReplyError(socket, request, "BadRequest", e.Message);
        }
        catch (Exception e)
        {
            log.WriteLine($"medssl kernel: {request.Type} failed: {e}");
            ReplyError(socket, request, e.GetType().Name, e.Message);
        }
        finally
        {
            Publish(request, "status", new JsonObject { ["execution_state"] = "idle" });
            if (shutdown) stopping.Cancel(); // not for a malformed shutdown request: that was answered with an error
        }
    }

    /// <summary>Answers a request the kernel could not serve with <c>X_reply</c>, status "error": its client stops
    /// waiting. Messages that are not requests get none (Jupyter defines no reply for them).</summary>
    private void ReplyError(RouterSocket socket, JupyterMessage request, string name, string message)
    {
        if (request.ReplyType is not { } type) return;
        try
        {
            Send(socket, request, type, new JsonObject { ["status"] = "error", ["ename"] = name, ["evalue"] = message, ["traceback"] = new JsonArray() });
        }
        catch (Exception e) when (e is NetMQException or InvalidOperationException)
        {
            log.WriteLine($"medssl kernel: could not answer {request.Type}: {e.Message}");
        }
    }

    private static string Text(JupyterMessage request, string name) => Text(request.Content, name);

    private static string Text(JsonObject content, string name) => content[name] switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw new BadRequestException($"content field '{name}' is {other.GetValueKind()}, not a string"),
    };

    private static bool Flag(JupyterMessage request, string name, bool absent) => request.Content[name] switch
    {
        null => absent,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        var other => throw new BadRequestException($"content field '{name}' is {other.GetValueKind()}, not a boolean"),
    };

    private static JsonObject KernelInfo() => new()
    {
        ["status"] = "ok",
        ["protocol_version"] = MessageCodec.ProtocolVersion,
        ["implementation"] = "medssl-csharp",
        ["implementation_version"] = typeof(JupyterKernel).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        ["language_info"] = KernelSpec.LanguageInfo(),
        ["banner"] = $"C# (MedSsl) kernel: Roslyn scripting on .NET {Environment.Version}; the cells' CancellationToken is Cancellation",
        ["help_links"] = new JsonArray(),
    };

    private void Execute(JupyterMessage request, RouterSocket socket)
    {
        var code = Text(request, "code");
        var silent = Flag(request, "silent", false);
        var storeHistory = !silent && Flag(request, "store_history", true);
        var allowStdin = Flag(request, "allow_stdin", false);
        var stopOnError = Flag(request, "stop_on_error", true);
        if (storeHistory) executionCount++;
        var count = executionCount;
        if (!silent) Publish(request, "execute_input", new JsonObject { ["code"] = code, ["execution_count"] = count });
        var sink = new KernelOutputs(this, request, silent);
        inputParent = allowStdin ? request : null;
        var outcome = session.Run(code, storeHistory ? $"cell {count}" : "silent cell", count, sink, Timeout.InfiniteTimeSpan);
        inputParent = null;
        var reply = outcome == CellOutcome.Succeeded || sink.LastError is null
            ? new JsonObject { ["status"] = "ok", ["execution_count"] = count, ["payload"] = new JsonArray(), ["user_expressions"] = new JsonObject() }
            : new JsonObject
            {
                ["status"] = "error", ["execution_count"] = count,
                ["ename"] = sink.LastError["ename"]!.DeepClone(), ["evalue"] = sink.LastError["evalue"]!.DeepClone(),
                ["traceback"] = sink.LastError["traceback"]!.DeepClone(),
            };
        if (storeHistory) history.Add(count, code, sink.ResultText);
        // Only requests queued before the error reply goes out were sent behind the failed cell: one a client sends
        // after reading the reply (a cell run after an interrupt) must run, so the queue is taken before replying.
        if (Text(reply, "status") == "error" && stopOnError)
        {
            NetMQMessage? queued = null;
            while (socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref queued))
            {
                queuedBehindFailure.Add(queued);
                queued = null;
            }
        }
        Send(socket, request, "execute_reply", reply);
    }

    private void Complete(JupyterMessage request, RouterSocket socket)
    {
        var code = Text(request, "code");
        var cursor = Cursor(request, code);
        var (matches, start, end) = CodeAssist.Complete(session, code, cursor);
        Send(socket, request, "complete_reply", new JsonObject
        {
            ["status"] = "ok",
            ["matches"] = new JsonArray(matches.Select(m => (JsonNode?)m).ToArray()),
            ["cursor_start"] = CodePoints(code, start),
            ["cursor_end"] = CodePoints(code, end),
            ["metadata"] = new JsonObject(),
        });
    }

    /// <summary>Shift+Tab help: the signature and XML doc summary of the symbol at the cursor.</summary>
    private void Inspect(JupyterMessage request, RouterSocket socket)
    {
        var code = Text(request, "code");
        var text = CodeAssist.Inspect(session, code, Cursor(request, code));
        Send(socket, request, "inspect_reply", new JsonObject
        {
            ["status"] = "ok", ["found"] = text is not null,
            ["data"] = text is null ? new JsonObject() : new JsonObject { ["text/plain"] = text },
            ["metadata"] = new JsonObject(),
        });
    }

    /// <summary>The request's <c>cursor_pos</c> as a UTF-16 index (absent: the end of the code).</summary>
    private static int Cursor(JupyterMessage request, string code) =>
        // Jupyter counts cursor positions in Unicode code points; .NET strings index UTF-16 units.
        Utf16Index(code, request.Content["cursor_pos"] switch
        {
            null => code.Length,
            JsonValue value when value.TryGetValue<int>(out var position) && position >= 0 => position,
            var other => throw new BadRequestException($"content field 'cursor_pos' is {other.ToJsonString()}, not a position"),
        });

    private static int Utf16Index(string text, int codePoints)
    {
        var index = 0;
        for (var k = 0; k < codePoints && index < text.Length; k++) index += char.IsSurrogatePair(text, index) ? 2 : 1;
        return index;
    }

    private static int CodePoints(string text, int utf16Index)
    {
        var count = 0;
        for (var index = 0; index < utf16Index; index += char.IsSurrogatePair(text, index) ? 2 : 1) count++;
        return count;
    }

    /// <summary>The kernel's sink: each output becomes an iopub message answering the execute request.</summary>
    private sealed class KernelOutputs(JupyterKernel kernel, JupyterMessage request, bool silent) : ICellOutputSink
    {
        public JsonObject? LastError { get; private set; }

        /// <summary>The text/plain of the cell's execute_result, for history with output.</summary>
        public string? ResultText { get; private set; }

        public void Stream(string name, string text) => Publish("stream", new JsonObject { ["name"] = name, ["text"] = text });

        public void Display(JsonObject data, string displayId) => Publish("display_data", DisplayContent(data, displayId));

        public void UpdateDisplay(JsonObject data, string displayId) => Publish("update_display_data", DisplayContent(data, displayId));

        public void Result(JsonObject data, int executionCount)
        {
            ResultText = data["text/plain"] is JsonValue plain && plain.TryGetValue<string>(out var text) ? text : null;
            Publish("execute_result", new JsonObject { ["execution_count"] = executionCount, ["data"] = data, ["metadata"] = new JsonObject() });
        }

        public void Error(string name, string value, IReadOnlyList<string> traceback)
        {
            LastError = new JsonObject
            {
                ["ename"] = name, ["evalue"] = value, ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode?)t).ToArray()),
            };
            Publish("error", (JsonObject)LastError.DeepClone());
        }

        private static JsonObject DisplayContent(JsonObject data, string displayId) => new()
        {
            ["data"] = data, ["metadata"] = new JsonObject(), ["transient"] = new JsonObject { ["display_id"] = displayId },
        };

        private void Publish(string type, JsonObject content)
        {
            if (!silent) kernel.Publish(request, type, content);
        }
    }
}
