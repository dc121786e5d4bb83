using System.Diagnostics;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Redrive;

/// <summary>The command line of <c>FunctionApp redrive</c>: bad arguments get the usage and exit code 2, in-process and as the real executable.</summary>
public sealed class RedriveCommandTests
{
    [Theory]
    [InlineData(new string[0], "Option '--source' is required.")]
    [InlineData(new[] { "--source", "deadletter" }, "Option '--max' is required.")]
    [InlineData(new[] { "--source", "topic", "--max", "5" }, "Argument 'topic' not recognized.")]
    [InlineData(new[] { "--source", "poison", "--max", "0" }, "--max must be a whole number of at least 1; it is '0'.")]
    [InlineData(new[] { "--source", "poison", "--max", "five" }, "five")]
    [InlineData(new[] { "--source", "deadletter", "--max", "5", "--duplicate-detection-window", "ten minutes" }, "--duplicate-detection-window must be a duration")]
    [InlineData(new[] { "--source", "deadletter", "--max", "5", "--force" }, "--force")]
    public async Task Bad_arguments_print_the_error_and_the_usage_and_exit_with_2(string[] options, string expected)
    {
        var output = new RedriveOutput();
        var error = new RedriveOutput();

        var exitCode = await RedriveCommand.RunAsync(["redrive", .. options], DeadLetterRedriveTests.Settings(), output, error);

        Assert.Equal(RedriveCommand.UsageExitCode, exitCode);
        Assert.Contains(expected, error.Text, StringComparison.Ordinal);
        Assert.Contains(RedriveCommand.Usage, error.Text, StringComparison.Ordinal);
        Assert.Empty(output.Text);
    }

    [Fact]
    public async Task A_missing_service_bus_setting_is_a_usage_error_naming_it()
    {
        var error = new RedriveOutput();
        var exitCode = await RedriveCommand.RunAsync(["redrive", "--source", "deadletter", "--max", "1"], DeadLetterRedriveTests.Settings(), new RedriveOutput(), error);

        Assert.Equal(RedriveCommand.UsageExitCode, exitCode);
        Assert.Contains("'ServiceBusConnection' is missing", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executable_takes_the_command_and_exits_with_2_on_bad_arguments_without_starting_the_app()
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FunctionApp.dll"), "redrive", "--source", "deadletter"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(RedriveCommand.UsageExitCode, process.ExitCode);
        Assert.Contains("Option '--max' is required.", await error, StringComparison.Ordinal);
        Assert.Contains(RedriveCommand.Usage, await error, StringComparison.Ordinal);
        Assert.DoesNotContain("Starting in", await output, StringComparison.Ordinal);
    }
}
