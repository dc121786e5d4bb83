using System.Net;
using System.Text;
using FunctionApp.Api;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>Values from a request reach the log only escaped, so a caller cannot forge or split log lines.</summary>
public sealed class LogInjectionTests
{
    [Theory]
    [InlineData("a\r\nb", @"a\r\nb")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("nul\0bell\a", @"nul\u0000bell\u0007")]
    [InlineData("c1\u0085del\u007f", @"c1\u0085del\u007f")]
    [InlineData("sep\u2028para\u2029", @"sep\u2028para\u2029")]
    [InlineData(@"fake \r escape", @"fake \\r escape")]
    [InlineData("plain ascii, ümlaut, 中文", "plain ascii, ümlaut, 中文")]
    public void Escapes_control_characters_and_backslashes(string value, string expected) =>
        Assert.Equal(expected, LogValue.Escape(value));

    [Fact]
    public void Cuts_a_very_long_value()
    {
        var escaped = LogValue.Escape(new string('x', 10_000))!;
        Assert.Equal(LogValue.MaxLength + 3, escaped.Length);
        Assert.EndsWith("...", escaped, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api/callbacks/tencent%0D%0Aoutcome=accepted?SdkAppid=1400000001")]
    [InlineData("api/callbacks/tencent?SdkAppid=1400000001%0D%0ACallback%20platform=tencent%20outcome=accepted&CallbackCommand=Sns.CallbackFriendAdd")]
    [InlineData("api/callbacks/tencent?SdkAppid=1400000001&contenttype=json%0D%0Aforged&CallbackCommand=Sns.CallbackFriendAdd")]
    [InlineData("api/callbacks/tencent?SdkAppid=1400000001&CallbackCommand=Sns.Other%0Aforged")]
    [InlineData("api/callbacks/openim/callbackAfterFoo%0D%0Aforged")]
    public async Task A_callback_cannot_put_a_line_break_into_the_log(string target)
    {
        var queue = new RecordingEventQueue();
        await using var app = await TestApp.StartStandaloneAsync(
            services => services.AddSingleton<IRelationshipEventQueue>(queue),
            "--Tencent:Apps:1400000001:CallbackToken=", "--Callbacks:AllowUnsigned=true");

        using var response = await app.Client.PostAsync(new Uri(target, UriKind.Relative),
            new StringContent("{\"PairList\":[]}", Encoding.UTF8, "application/json"));

        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        var callbackLines = app.Logs.Entries.Where(e => e.Category == ApiLog.CallbacksCategory).Select(e => e.Message).ToList();
        Assert.NotEmpty(callbackLines);
        Assert.All(callbackLines, line => Assert.DoesNotMatch("[\r\n\u0085\u2028\u2029]", line));
        Assert.Contains(callbackLines, line => line.Contains(@"\n", StringComparison.Ordinal));
    }
}
