namespace FunctionApp.Tests.Deployment;

/// <summary>
/// infra/ compiles and lints with the pinned compiler without a single diagnostic: an error, a warning or even an
/// info line fails here, so a typo shows up in the tests rather than in a user's first deployment.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed class BicepCompilationTests(CompiledTemplates templates)
{
    [Fact]
    public void The_compiler_is_the_pinned_version_and_the_readme_names_it()
    {
        Assert.True(templates.Version.ExitCode == 0, templates.Version.Output);
        Assert.Contains($"Bicep CLI version {BicepCompiler.PinnedVersion} ", templates.Version.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Azure.Bicep.CommandLine.linux-x64 {BicepCompiler.PinnedVersion}", DeploySection(), StringComparison.Ordinal);
    }

    [Fact]
    public void Main_template_builds_without_diagnostics()
    {
        AssertClean(templates.Build);
        Assert.Equal("2.0", templates.Main.Root.GetProperty("languageVersion").GetString());
    }

    [Fact]
    public void Parameters_file_builds_without_diagnostics()
    {
        AssertClean(templates.BuildParameters);
        AssertClean(templates.BuildParametersWithSecrets);
    }

    [Fact]
    public void Every_template_and_parameter_file_lints_without_diagnostics()
    {
        AssertClean(templates.Lint);
    }

    [Fact]
    public async Task Lint_configuration_turns_findings_into_errors()
    {
        // The repository's bicepconfig.json beside a template with an unused parameter: the linter (a warning by
        // default) must report an error, which also fails `bicep build` and so any deployment.
        var folder = Directory.CreateTempSubdirectory("bicep-config-");
        try
        {
            File.Copy(DeploymentFiles.PathOf("bicepconfig.json"), Path.Combine(folder.FullName, "bicepconfig.json"));
            var probe = Path.Combine(folder.FullName, "probe.bicep");
            File.WriteAllText(probe, "param unused string\n");

            var run = await BicepCompiler.RunAsync(["lint", probe]);

            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains(": Error no-unused-params:", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Lint_configuration_raises_every_rule_it_keeps_on_to_error()
    {
        using var config = DeploymentFiles.Json("bicepconfig.json");
        var rules = config.RootElement.GetProperty("analyzers").GetProperty("core").GetProperty("rules").EnumerateObject().ToList();
        Assert.NotEmpty(rules);
        // Only a rule whose result changes with the calendar is off: its finding would fail an unchanged commit.
        var notErrors = rules.Where(rule => rule.Value.GetProperty("level").GetString() != "error").Select(rule => rule.Name);
        Assert.Equal(["use-recent-api-versions"], notErrors);
    }

    internal static string DeploySection()
    {
        var readme = DeploymentFiles.Text("README.md");
        var start = readme.IndexOf("\n## Deploy\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Deploy' section.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    private static void AssertClean(BicepRun run)
    {
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(run.StandardOutput.Trim().Length == 0 && run.StandardError.Trim().Length == 0, $"Diagnostics:\n{run.Output}");
    }
}
