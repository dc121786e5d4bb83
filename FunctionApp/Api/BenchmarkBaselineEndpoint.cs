using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>
/// <c>POST /benchmark/baseline</c>, mapped only when <c>Benchmark:BaselineEndpoint</c> is true: the same server
/// answering a fixed 200 with Tencent's OK body and doing nothing else, so a benchmark can tell the cost of the
/// callback work from the cost of the HTTP stack. It drains the request body so the comparison stays fair.
/// </summary>
internal static class BenchmarkBaselineEndpoint
{
    public const string Route = "/benchmark/baseline";

    private static readonly byte[] FixedAnswer = """{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"""u8.ToArray();

    public static bool IsEnabled(IConfiguration configuration) =>
        bool.TryParse(configuration[AppSettingNames.BenchmarkBaselineEndpoint], out var enabled) && enabled;

    public static async Task HandleAsync(HttpContext context)
    {
        var buffer = new byte[16 * 1024];
        while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
        {
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(FixedAnswer, context.RequestAborted);
    }
}
