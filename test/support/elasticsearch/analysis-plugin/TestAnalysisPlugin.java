package apmsidecar.test;

import java.util.Map;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The integ-test-zip lacks the analysis-common module, yet the security index (native users, roles, API keys)
 * declares an "email" analyzer built from uax_url_email, pattern_capture and unique. This plugin provides just
 * those three, with Lucene's own implementations, so the native realm works in tests. Test-only.
 */
public class TestAnalysisPlugin extends Plugin implements AnalysisPlugin {
  @Override
  public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
    AnalysisProvider<TokenFilterFactory> patternCapture = (indexSettings, env, name, settings) ->
        new AbstractTokenFilterFactory(name, settings) {
          private final boolean preserveOriginal = settings.getAsBoolean("preserve_original", true);
          private final Pattern[] patterns = settings.getAsList("patterns").stream().map(Pattern::compile).toArray(Pattern[]::new);

          @Override
          public TokenStream create(TokenStream input) {
            return new PatternCaptureGroupTokenFilter(input, preserveOriginal, patterns);
          }
        };
    AnalysisProvider<TokenFilterFactory> unique = (indexSettings, env, name, settings) ->
        new AbstractTokenFilterFactory(name, settings) {
          @Override
          public TokenStream create(TokenStream input) {
            return new RemoveDuplicatesTokenFilter(input);
          }
        };
    return Map.of("pattern_capture", AnalysisPlugin.requiresAnalysisSettings(patternCapture), "unique", unique);
  }

  @Override
  public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
    return Map.of("uax_url_email", (indexSettings, env, name, settings) -> TokenizerFactory.newFactory(name, UAX29URLEmailTokenizer::new));
  }
}
