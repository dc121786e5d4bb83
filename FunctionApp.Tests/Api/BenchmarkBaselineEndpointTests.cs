using System.Net;
using System.Text;
using FunctionApp.Tests.Hosting;

namespace FunctionApp.Tests.Api;

/// <summary>The benchmark-only baseline endpoint exists only when a run asks for it.</summary>
public sealed class BenchmarkBaselineEndpointTests
{
    private const string Route = "benchmark/baseline";

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(TestApp app)
    {
        using var content = new StringContent("""{"PairList":[]}""", Encoding.UTF8, "application/json");
        using var response = await app.Client.PostAsync(new Uri(Route, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Is_not_served_by_default_in_either_mode()
    {
        await using (var functions = await TestApp.StartFunctionsAsync())
        {
            Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(functions)).Status);
        }

        await using var standalone = await TestApp.StartStandaloneAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(standalone)).Status);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("")]
    [InlineData("yes")]
    public async Task Is_not_served_unless_the_setting_is_true(string value)
    {
        await using var app = await TestApp.StartFunctionsAsync(null, $"--Benchmark:BaselineEndpoint={value}");
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(app)).Status);
    }

    [Fact]
    public async Task Answers_a_fixed_ok_when_switched_on()
    {
        await using var app = await TestApp.StartFunctionsAsync(null, "--Benchmark:BaselineEndpoint=true");
        var (status, body) = await PostAsync(app);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}""", body);
    }
}
