package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScopeTest {
    @Test
    void parsesAndPrintsWithActionsInStableOrder() {
        Scope s = Scope.parse("repository:127.0.0.1:5000/app:push,pull");
        assertThat(s).isEqualTo(new Scope("repository", "127.0.0.1:5000/app", Set.of("pull", "push")));
        assertThat(s.toString()).isEqualTo("repository:127.0.0.1:5000/app:pull,push");
    }

    @Test
    void mergeKeepsTheChallengedScopeFirstAndUnitesActions() {
        List<Scope> merged = Scope.merge(List.of(Scope.pull("src")),
                List.of(Scope.pushPull("app"), Scope.pull("src"), new Scope("repository", "app", Set.of("delete"))));
        assertThat(merged).extracting(Scope::toString)
                .containsExactly("repository:src:pull", "repository:app:delete,pull,push");
        assertThat(Scope.parseAll("repository:a:pull  repository:b:push")).hasSize(2);
    }

    @Test
    void covers() {
        assertThat(Scope.pushPull("a").covers(Scope.pull("a"))).isTrue();
        assertThat(Scope.pull("a").covers(Scope.pushPull("a"))).isFalse();
        assertThat(Scope.pull("a").covers(Scope.pull("b"))).isFalse();
    }
}
