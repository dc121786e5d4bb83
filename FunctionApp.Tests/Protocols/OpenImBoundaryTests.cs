using FunctionApp.Protocols.OpenIm;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>The edges of what an OpenIM callback may carry: blank commands, one path segment too many, bodies at the limit.</summary>
public class OpenImBoundaryTests
{
    private static readonly byte[] BeforeAddBlack = Utf8("{\"callbackCommand\":\"callbackBeforeAddBlackCommand\",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}");

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void A_blank_body_command_defers_to_the_url(string blank)
    {
        var body = Utf8($"{{\"callbackCommand\":\"{blank}\",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}}");
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.AfterRemoveBlack, body));
        Assert.Equal(OpenImCommands.AfterRemoveBlack, Assert.Single(result.Batches).Source.Command);
    }

    [Fact]
    public void A_blank_body_command_and_no_url_command_is_refused()
    {
        var result = Ingestor().Ingest(OpenIm("", Utf8("{\"callbackCommand\":\" \",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}")));
        HostileBodyTests.AssertRefused("openim", result, 400);
        Assert.StartsWith("No command: ", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_command_in_another_case_agrees_with_the_url()
    {
        var body = Utf8("{\"callbackCommand\":\"CALLBACKBEFOREADDBLACKCOMMAND\",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}");
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, body));
        Assert.Equal(OpenImCommands.BeforeAddBlack, Assert.Single(result.Batches).Source.Command);
    }

    [Fact]
    public void With_a_callback_key_an_extra_path_segment_is_refused_with_404()
    {
        var result = Ingestor(openImKey: "s3cret").Ingest(OpenIm("s3cret/callbackBeforeAddBlackCommand/extra", BeforeAddBlack));
        HostileBodyTests.AssertRefused("openim", result, 404);
        Assert.Equal("Unexpected path: expected /api/callbacks/openim/<key>[/<callbackCommand>].", result.Outcome.Reason);
    }

    [Fact]
    public void Without_a_callback_key_the_refusal_of_an_extra_segment_says_no_key_is_configured()
    {
        var result = Ingestor().Ingest(OpenIm("callbackBeforeAddBlackCommand/extra", BeforeAddBlack));
        HostileBodyTests.AssertRefused("openim", result, 404);
        Assert.Contains("no callback key is configured", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_refused_with_413()
    {
        var accepted = Ingestor(limits: l => l.MaxBodyBytes = 200).Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BoundaryBodies.PaddedTo(BeforeAddBlack, 200)));
        Assert.Equal(200, accepted.Answer.StatusCode);
        Assert.Single(accepted.Batches);

        var refused = Ingestor(limits: l => l.MaxBodyBytes = 200).Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BoundaryBodies.PaddedTo(BeforeAddBlack, 201)));
        HostileBodyTests.AssertRefused("openim", refused, 413);
        Assert.Equal("The body is over the limit of 200 bytes.", refused.Outcome.Reason);
    }
}
