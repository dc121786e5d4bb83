using FunctionApp.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FunctionApp.Tests.Hosting;

public class BatchedConsoleLoggerProviderTests
{
    private static ConsoleFormatter Formatter(string name = ConsoleFormatterNames.Simple)
    {
        using var services = new ServiceCollection().AddLogging(logging => logging.AddConsole()).BuildServiceProvider();
        return services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
    }

    [Fact]
    public void Every_line_is_written_in_order_in_the_framework_format_by_the_time_the_provider_is_disposed()
    {
        var output = new StringWriter();
        var provider = new BatchedConsoleLoggerProvider(Formatter(), TextWriter.Synchronized(output));
        var logger = provider.CreateLogger("FunctionApp.Api.Callbacks");
        for (var i = 0; i < 500; i++)
        {
            logger.Log(LogLevel.Information, new EventId(1), $"Callback number={i}", null, (state, _) => state);
        }

        provider.Dispose();

        var text = output.ToString();
        Assert.StartsWith("info: FunctionApp.Api.Callbacks[1]", text, StringComparison.Ordinal);
        var numbers = text.Split('\n').Where(l => l.Contains("Callback number=", StringComparison.Ordinal))
            .Select(l => int.Parse(l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(0, 500), numbers);
    }

    /// <summary>A console that hangs (a full pipe nobody reads) until released.</summary>
    private sealed class BlockedWriter : TextWriter
    {
        public ManualResetEventSlim Release { get; } = new();

        public StringWriter Written { get; } = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            Release.Wait();
            lock (Written)
            {
                Written.Write(value);
            }
        }

        public override void Write(string? value)
        {
            Release.Wait();
            lock (Written)
            {
                Written.Write(value);
            }
        }
    }

    [Fact]
    public async Task A_stuck_console_never_blocks_a_logging_thread_and_dropped_lines_are_counted()
    {
        var console = new BlockedWriter();
        var provider = new BatchedConsoleLoggerProvider(Formatter(), console);
        var logger = provider.CreateLogger("FunctionApp.Api.Callbacks");
        var line = new string('x', 1000);

        // Far more than the buffer holds, in bytes and in lines, while the writer is stuck.
        var logging = Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                logger.Log(LogLevel.Information, new EventId(1), line, null, (state, _) => state);
            }
        });
        var finished = await Task.WhenAny(logging, Task.Delay(TimeSpan.FromSeconds(10))) == logging;
        console.Release.Set();
        await logging;
        provider.Dispose();

        Assert.True(finished, "logging blocked while the console was stuck");
        var text = console.Written.ToString();
        Assert.True(text.Length < 2 * BatchedConsoleLoggerProvider.MaxBufferedBytes, $"{text.Length} characters written");
        Assert.Matches(@"[1-9][0-9]* log lines were dropped", text);
    }

    [Fact]
    public async Task Lines_appear_shortly_without_a_dispose()
    {
        var output = new StringWriter();
        using var provider = new BatchedConsoleLoggerProvider(Formatter(), TextWriter.Synchronized(output));
        provider.CreateLogger("Cat").LogWarning("first line");

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!output.ToString().Contains("first line", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.Contains("warn: Cat[0]", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lines_from_many_threads_all_arrive_while_the_console_keeps_up()
    {
        var output = new StringWriter();
        var provider = new BatchedConsoleLoggerProvider(Formatter(), TextWriter.Synchronized(output));
        var logger = provider.CreateLogger("Cat");
        const int perThread = 4096;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++)
            {
                logger.LogInformation("line {Thread}-{Number}", t, i);
            }
        })));

        provider.Dispose();

        var lines = output.ToString().Split('\n').Where(l => l.Contains("line ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4 * perThread, lines.Count);
        Assert.Equal(4 * perThread, lines.Distinct().Count());
    }

    [Fact]
    public void The_configured_formatter_and_scopes_are_used()
    {
        using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddJsonConsole(o => o.IncludeScopes = true))
            .BuildServiceProvider();
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ConsoleLoggerOptions>>();
        Assert.Equal(ConsoleFormatterNames.Json, options.Value.FormatterName);
        var output = new StringWriter();
        var provider = new BatchedConsoleLoggerProvider(
            services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Json), TextWriter.Synchronized(output));
        provider.SetScopeProvider(new LoggerExternalScopeProvider());
        var logger = provider.CreateLogger("Cat");
        using (logger.BeginScope("invocation {InvocationId}", "inv-7"))
        {
            logger.LogInformation("Callback app={AppId}", "1400000001");
        }

        provider.Dispose();

        using var line = System.Text.Json.JsonDocument.Parse(output.ToString().Trim());
        Assert.Equal("1400000001", line.RootElement.GetProperty("State").GetProperty("AppId").GetString());
        Assert.Contains("inv-7", line.RootElement.GetProperty("Scopes").GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--FUNCTIONS_CUSTOMHANDLER_PORT=0")]
    [InlineData("--PORT=0")]
    public void The_app_logs_to_the_console_through_the_batched_provider_only(string mode)
    {
        var app = RelationshipCallbacksApp.Build([mode, "--Callbacks:AllowUnsigned=true", "--RelationshipStorage=" + TestApp.UnreachableStorage, "--ServiceBusConnection=" + TestApp.UnreachableServiceBus]);
        var providers = app.Services.GetServices<ILoggerProvider>().ToList();
        Assert.Contains(providers, p => p is BatchedConsoleLoggerProvider);
        Assert.DoesNotContain(providers, p => p is ConsoleLoggerProvider);
        ((IDisposable)app).Dispose();
    }
}
