using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace FunctionApp.Hosting;

/// <summary>
/// The console logger with the framework's own formatters ("simple", "json", "systemd" and their
/// <c>Logging:Console</c> options), delivered in batches. The framework's console logger wakes its writer thread for
/// nearly every line when lines come one per request, and that hand-off cost more CPU than the rest of a callback's
/// log line; here the writer wakes at most once per <see cref="FlushInterval"/> and writes what has gathered in one
/// go. Lines appear up to that interval later; a line logged before a hard kill may be lost, as with the framework's
/// queue. The buffer is bounded in bytes (<see cref="MaxBufferedBytes"/>) and never blocks a logging (request)
/// thread: when it is full, lines are dropped, counted, and the count is written as soon as the console takes output again.
/// </summary>
[ProviderAlias("Console")]
public sealed class BatchedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(10);
    /// <summary>Memory the lines waiting for the console may hold (UTF-16, two bytes a character).</summary>
    public const int MaxBufferedBytes = 4 * 1024 * 1024;

    private readonly ConsoleFormatter _formatter;
    private readonly TextWriter _output;
    private readonly object _lock = new();
    private readonly Thread _writer;
    private List<string> _pending = [];
    private List<string> _spare = [];
    private long _pendingBytes;
    private long _dropped;
    private bool _writerWaiting;
    private bool _stopping;
    private IExternalScopeProvider? _scopes;

    public BatchedConsoleLoggerProvider(IOptions<ConsoleLoggerOptions> options, IEnumerable<ConsoleFormatter> formatters)
        : this(SelectFormatter(options, formatters), Console.Out)
    {
    }

    internal BatchedConsoleLoggerProvider(ConsoleFormatter formatter, TextWriter output)
    {
        _formatter = formatter;
        _output = output;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Console log writer" };
        _writer.Start();

        // A process that ends without disposing the host (an unhandled exception) still writes what it logged.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public ILogger CreateLogger(string categoryName) => new BatchedConsoleLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Writes every line logged so far and stops the writer.</summary>
    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_lock);
        }

        _writer.Join(TimeSpan.FromSeconds(5));
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    private static ConsoleFormatter SelectFormatter(IOptions<ConsoleLoggerOptions> options, IEnumerable<ConsoleFormatter> formatters)
    {
        var name = options.Value.FormatterName ?? ConsoleFormatterNames.Simple;
        return formatters.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? formatters.First(f => f.Name == ConsoleFormatterNames.Simple);
    }

    private void Enqueue(string line)
    {
        var bytes = (long)line.Length * sizeof(char);
        lock (_lock)
        {
            if (!_stopping && _pendingBytes + bytes > MaxBufferedBytes)
            {
                // The console is not keeping up: losing a line is better than stalling the request that logs it.
                _dropped++;
                return;
            }

            if (_stopping)
            {
                // After shutdown began nothing drains the buffer any more: write through.
                _output.Write(line);
                _output.Flush();
                return;
            }

            _pending.Add(line);
            _pendingBytes += bytes;
            if (_writerWaiting)
            {
                _writerWaiting = false;
                Monitor.PulseAll(_lock);
            }
        }
    }

    private void WriteLoop()
    {
        var text = new StringBuilder();
        while (true)
        {
            bool stopping;
            lock (_lock)
            {
                while (_pending.Count == 0 && !_stopping)
                {
                    _writerWaiting = true;
                    Monitor.Wait(_lock);
                }

                stopping = _stopping;
            }

            if (!stopping)
            {
                // Let the lines of the next few milliseconds gather so they cost one wake-up and one write.
                Thread.Sleep(FlushInterval);
            }

            List<string> batch;
            long dropped;
            lock (_lock)
            {
                batch = _pending;
                _pending = _spare;
                _spare = batch;
                _pendingBytes = 0;
                dropped = _dropped;
                _dropped = 0;
                stopping = _stopping;
            }

            foreach (var line in batch)
            {
                text.Append(line);
            }

            if (dropped > 0)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture,
                    $"warn: FunctionApp.Hosting.Console[0]{Environment.NewLine}      {dropped} log lines were dropped: the console did not take output fast enough.{Environment.NewLine}");
            }

            batch.Clear();
            try
            {
                _output.Write(text);
                _output.Flush();
            }
            catch (IOException)
            {
                // A closed console must not take the app down; the lines are lost, as the framework's logger loses them.
            }

            text.Clear();
            if (stopping)
            {
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        return;
                    }
                }
            }
        }
    }

    private sealed class BatchedConsoleLogger(BatchedConsoleLoggerProvider provider, string category) : ILogger
    {
        [ThreadStatic]
        private static StringWriter? t_line;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = t_line ??= new StringWriter();
            provider._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider._scopes, line);
            var builder = line.GetStringBuilder();
            if (builder.Length == 0)
            {
                return;
            }

            var text = builder.ToString();
            builder.Clear();
            if (builder.Capacity > 4096)
            {
                builder.Capacity = 1024;
            }

            provider.Enqueue(text);
        }
    }
}
