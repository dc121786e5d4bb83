using System.Net;
using System.Text;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>A continuation token the API did not issue is a bad parameter (400), never a store outage (503), against the real store.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TamperedContinuationTests(AzuriteFixture azurite)
{
    private static string Token(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static TheoryData<string> TamperedTokens() => new()
    {
        Token("e1\nx\u0001\u0002\n"),
        Token("e1\n\r\n\n"),
        Token("e1\n" + new string('p', 5000) + "\nr"),
        Token("e1\nother|partition\nfriend|x"),
        Token("e1\nMTQwMDAwMDAwMXxh\nZnJpZW5kfGM=\u0000"),
        Token("e1\n'\n'"),
        Token("e1\n%ZZ\n%"),
        "not*base64",
        Token("h1\nx\ny"),
    };

    [Theory]
    [MemberData(nameof(TamperedTokens))]
    public async Task A_tampered_continuation_token_is_a_400_problem(string token)
    {
        var appId = NewTencentAppId();
        await using var app = await TestApp.StartStandaloneAsync(null,
            "--RelationshipStorage=" + azurite.ConnectionString, "--RelationshipEventsQueue=" + NewName("cont"),
            $"--Tencent:Apps:{appId}:CallbackToken=");

        using var response = await app.Client.GetAsync(new Uri(
            $"api/v1/apps/{appId}/users/alice/friends?continuation={Uri.EscapeDataString(token)}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid-continuation", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }
}
